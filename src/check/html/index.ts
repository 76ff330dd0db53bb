// The check report as markup, for the CLI's `--html` page and the visualizer's history panel:
// pure functions from a history and a check result to an escaped tree or text (no DOM, no I/O).
export { compareNatural, historyChart, operationLabel, MAX_STATE_CHARS, MAX_TITLE_CHARS, type ChartHighlight, type ChartOptions } from './chart.js';
export { operationKeys } from './keys.js';
export { attributeText, el, escapeHtml, showText, toMarkup, type AttrValue, type MarkupElement, type MarkupNode } from './markup.js';
export {
  DEFAULT_MAX_DRAWN_OPS,
  htmlReportEnd,
  htmlReportSection,
  htmlReportStart,
  renderHtmlReport, reportSection, selectDrawn, type DrawnOps, type ReportOptions, type ReportSection } from './page.js';
