import '@testing-library/jest-dom';

// jsdom cannot parse some of the CSS that Backstage's UI library injects; it says so through
// console.error on every render, which buries real errors. Only that message is dropped.
const consoleError = console.error;
console.error = (...args: unknown[]) => {
  const first = args[0] as { message?: string } | string | undefined;
  const text = typeof first === 'string' ? first : first?.message;
  if (text?.includes('Could not parse CSS stylesheet')) return;
  consoleError(...args);
};
