// `portcullis quickstart`: Kong's cert-bound token tutorial on one machine (certificates, echo
// upstream, development IdP, gateway, the tutorial's configuration) and `--check`, its steps run
// and judged. The CLI command is src/cli/commands/quickstart.ts.
export { startQuickstart, defaultQuickstartOptions, type Quickstart, type QuickstartOptions } from './start-quickstart.js';
export { runQuickstartChecks, formatCheckResult, checkNames, type CheckResult } from './check.js';
export { formatSummary, formatTryIt, displayPath, onPath } from './instructions.js';
export { formatRequestLine, RequestLog } from './request-log.js';
export { PortUnavailableError } from './port-errors.js';
export { ensureQuickstartPki, otherClientSubject, type QuickstartPki } from './pki.js';
export { tutorialSteps, issuerVariable, type TutorialStep } from './tutorial-config.js';
