/**
 * Route regexes with a time limit. Most of them run on V8's linear-time engine (see
 * `runsInLinearTime` in src/config/pcre.ts) and need none. The others (back-references, lookaround,
 * `\p{…}`, large counted repetitions, non-ASCII case-insensitive patterns) backtrack, and a crafted
 * path or header value could keep one busy for minutes with the event loop blocked. They run inside
 * `vm` with a timeout, which interrupts V8 even in the middle of a regex; a request whose regexes
 * use up their budget matches no route at all (404), rather than fall through to a lower-priority
 * route that the regex was meant to win against.
 */
import { createContext, Script } from 'node:vm';
import { runsInLinearTime } from '../config/pcre.js';

/** Thrown when the backtracking regexes of one request have used up its budget. */
export class RegexBudgetExceeded extends Error {
  constructor(readonly budgetMs: number) {
    super(`route regexes took longer than ${budgetMs} ms`);
    this.name = 'RegexBudgetExceeded';
  }
}

/**
 * Time the backtracking regexes of one request may take together; the clock starts when the first
 * of them runs, so a request that meets none costs nothing.
 */
export class RegexBudget {
  #deadline = -1;

  constructor(readonly budgetMs: number) {}

  /** Whole milliseconds left (at least 1); throws `RegexBudgetExceeded` when none are. */
  remaining(): number {
    const now = performance.now();
    if (this.#deadline < 0) this.#deadline = now + this.budgetMs;
    const left = this.#deadline - now;
    if (left <= 0) throw new RegexBudgetExceeded(this.budgetMs);
    return Math.max(1, Math.ceil(left));
  }
}

// One sandbox, made on first use and reused: the regex and its input are put in, the script calls
// exec on them. The objects stay in the main realm, so the result is an ordinary array of this realm.
interface Sandbox {
  regex: RegExp | null;
  input: string;
}
let sandbox: Sandbox | undefined;
let runExec: Script | undefined;

/** `regex.exec(input)`, within `budget` unless the regex runs in linear time. */
export function execBounded(regex: RegExp, input: string, budget: RegexBudget | undefined): RegExpExecArray | null {
  if (budget === undefined || runsInLinearTime(regex)) return regex.exec(input);
  const timeout = budget.remaining();
  sandbox ??= createContext({ regex: null, input: '' }) as Sandbox;
  runExec ??= new Script('regex.exec(input)');
  sandbox.regex = regex;
  sandbox.input = input;
  try {
    return runExec.runInContext(sandbox, { timeout }) as RegExpExecArray | null;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_SCRIPT_EXECUTION_TIMEOUT') throw new RegexBudgetExceeded(budget.budgetMs);
    throw error;
  } finally {
    sandbox.regex = null;
    sandbox.input = '';
  }
}
