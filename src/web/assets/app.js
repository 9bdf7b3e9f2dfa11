// Progressive enhancement shared by every page: move focus to the error summary (GOV.UK
// pattern) so a screen reader announces it, and show the parts that need JavaScript.
const summary = document.querySelector('[data-error-summary]');
if (summary instanceof HTMLElement) summary.focus();
for (const el of document.querySelectorAll('.js-only')) el.hidden = false;
