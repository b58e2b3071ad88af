/** Formats a validation path as people write it: `segments[2].where`, `trackingPlan.events["Order Completed"]`. */
export const formatPath = (path: ReadonlyArray<PropertyKey>): string =>
  path.reduce<string>((acc, key) => {
    if (typeof key === 'number') return `${acc}[${key}]`;
    const k = String(key);
    return acc === '' ? k : /^[A-Za-z_][A-Za-z0-9_]*$/.test(k) ? `${acc}.${k}` : `${acc}["${k}"]`;
  }, '');
