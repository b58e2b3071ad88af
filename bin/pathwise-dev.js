#!/usr/bin/env node
// Runs the CLI from source, for tests and development: `node --import tsx bin/pathwise-dev.js …`
// (tsx resolves the .ts import; bin/pathwise.js runs the build in dist/ instead).
import { main } from '../src/cli/main.ts';
import { launch } from './launch.js';

launch(main);
