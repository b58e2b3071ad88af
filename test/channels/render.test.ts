import { describe, expect, it } from 'vitest';
import { checkTemplate, renderPayload, renderTemplate, TemplateError } from '../../src/channels/index.js';

const vars = {
  profile: {
    id: 'p1',
    traits: { first_name: 'ada', city: 'Lyon' },
    computed: { orders: 3 },
    segments: ['vip'],
  },
  context: { event: 'Cart Abandoned' },
  decision: { id: 'dec_9' },
};

describe('renderTemplate', () => {
  it('renders variables and filters', async () => {
    await expect(
      renderTemplate(
        '{{ profile.traits.first_name | capitalize }} from {{ profile.traits.city | upcase }}',
        vars,
      ),
    ).resolves.toBe('Ada from LYON');
    await expect(
      renderTemplate('{{ profile.computed.orders | plus: 1 }} / {{ profile.segments | join: "," }}', vars),
    ).resolves.toBe('4 / vip');
  });

  it('a missing variable is an error naming it, with the position', async () => {
    const error = await renderTemplate('Hi {{ profile.traits.nickname }}!', vars).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TemplateError);
    expect((error as Error).message).toBe('undefined variable: profile.traits.nickname, line:1, col:7');
  });

  it('lets if and default test for an absent trait', async () => {
    await expect(
      renderTemplate(
        '{% if profile.traits.nickname %}x{% else %}Hi {{ profile.traits.nickname | default: "there" }}{% endif %}',
        vars,
      ),
    ).resolves.toBe('Hi there');
  });

  it('an unknown filter is an error naming it', async () => {
    await expect(renderTemplate('{{ profile.traits.city | shout }}', vars)).rejects.toThrow(
      'undefined filter: shout',
    );
  });

  it('does not reach prototypes or files', async () => {
    await expect(renderTemplate('{{ profile.constructor }}', vars)).rejects.toThrow('undefined variable');
    await expect(renderTemplate('{% include "/etc/passwd" %}', vars)).rejects.toThrow(TemplateError);
  });

  it('escapes output for HTML when asked', async () => {
    const v = { ...vars, profile: { ...vars.profile, traits: { first_name: '<b>ada</b>' } } };
    await expect(renderTemplate('{{ profile.traits.first_name }}', v, { escape: 'html' })).resolves.toBe(
      '&lt;b&gt;ada&lt;/b&gt;',
    );
    await expect(renderTemplate('{{ profile.traits.first_name }}', v)).resolves.toBe('<b>ada</b>');
  });
});

describe('renderPayload', () => {
  it('renders every string in a JSON value and keeps the rest', async () => {
    const payload = {
      title: 'Hi {{ profile.traits.first_name }}',
      n: 2,
      ok: true,
      none: null,
      buttons: [{ label: '{{ context.event }}', url: 'https://shop.example/?d={{ decision.id }}' }],
    };
    await expect(renderPayload(payload, vars)).resolves.toEqual({
      title: 'Hi ada',
      n: 2,
      ok: true,
      none: null,
      buttons: [{ label: 'Cart Abandoned', url: 'https://shop.example/?d=dec_9' }],
    });
  });

  it('names the path of a failing template', async () => {
    await expect(renderPayload({ buttons: [{ label: '{{ nope }}' }] }, vars)).rejects.toThrow(
      'payload.buttons[0].label: undefined variable: nope',
    );
  });

  it('keeps a __proto__ key as data', async () => {
    const out = (await renderPayload(
      JSON.parse('{"__proto__": {"polluted": "{{ decision.id }}"}}'),
      vars,
    )) as object;
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(out, '__proto__')?.value).toEqual({ polluted: 'dec_9' });
  });
});

describe('checkTemplate', () => {
  it('is undefined for a template that parses', () => {
    expect(checkTemplate('Hi {{ profile.traits.first_name | default: "there" }}')).toBeUndefined();
  });

  it.each([
    ['{% iff x %}', 'tag "iff" not found, line:1, col:1'],
    [
      'Hello\n  {{ profile.traits.first_name ',
      'output "{{ profile.traits.first_name " not closed, line:2, col:3',
    ],
    ['{% if x %}open', 'tag {% if x %} not closed, line:1, col:1'],
    ['{{ x | shout }}', 'undefined filter: shout, line:1, col:1'],
  ])('reports %j with its position', (template, message) => {
    expect(checkTemplate(template)).toBe(message);
  });
});
