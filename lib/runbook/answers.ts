/**
 * Scripted answers: a YAML file that answers a run's prompts, so that a run
 * can go unattended (the rehearsal against simulated HSMs, CI).
 *
 *     # Rehearsal answers. Never put a real ceremony's passwords or PINs here.
 *     answers:
 *       prepare-the-environment.3/condition: no      # an IF asked of the operator
 *       "*\/done": done                                # every step performed by hand
 *       "yubihsm.*\/password":                         # one answer per HSM
 *         hsm=YubiHSM2-1: rehearsal-password-1
 *         hsm=YubiHSM2-2: rehearsal-password-2
 *         "*": rehearsal-password
 *     destructive:                                     # DANGER steps, confirmed one by one
 *       - yubihsm.reset
 *
 * Keys under `answers` are prompt ids (`<step id>/<name>`); a key holding `*`
 * matches any run of characters, and an exact id wins over a pattern, a
 * longer pattern over a shorter one. An answer is a boolean or yes/no for a
 * confirmation, a string otherwise (quote numbers: YAML would drop a serial
 * number's leading zeros). Because a section is performed once per GO TO, an
 * answer may instead be a map from call selectors (`hsm=YubiHSM2-1`,
 * `hsm=…,role=…`, or `*`) to answers; the selector naming the most of the
 * call's parameters wins.
 *
 * Destructive steps are confirmed only by listing their step id under
 * `destructive`: no pattern and no `answers` entry confirms one.
 *
 * A file can hold secrets for a rehearsal only. A real ceremony's passwords
 * and PINs are typed by the operator and exist nowhere else; every secret
 * taken from a file is reported as a warning.
 */
import { readFile } from 'node:fs/promises';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node, type Scalar } from 'yaml';
import { settle } from '../settle.ts';
import { ExecuteError } from './execute-errors.ts';
import {
  matchesWhole,
  type Answered,
  type ConfirmRequest,
  type InputRequest,
  type PromptScope,
  type PromptSource,
  type SecretRequest,
  type SelectRequest,
} from './prompts.ts';

/** One answer as written, with where it was written. */
export interface AnswerEntry {
  readonly value: string | boolean;
  /** `FILE:LINE`, for error messages. */
  readonly at: string;
}

/** A call selector: every parameter named must equal the call's. `*` has none. */
export interface ScopedAnswer extends AnswerEntry {
  readonly selector: Readonly<Record<string, string>>;
}

export type AnswerSpec = AnswerEntry | { readonly scoped: readonly ScopedAnswer[]; readonly at: string };

export interface AnswersFile {
  readonly file: string;
  /** Prompt id or pattern → answer. */
  readonly answers: ReadonlyMap<string, AnswerSpec>;
  /** Step ids whose destructive block is confirmed. */
  readonly destructive: ReadonlySet<string>;
}

const TOP_LEVEL_KEYS = new Set(['answers', 'destructive']);

/** Reads and validates an answers file. */
export async function loadAnswersFile(file: string): Promise<AnswersFile> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new ExecuteError('ANSWERS_FILE_UNREADABLE', `cannot read answers file ${file}: ${(err as Error).message}`, { cause: err });
  }
  return parseAnswers(text, file);
}

/** Validates answers-file text; `file` names it in error messages. */
export function parseAnswers(text: string, file: string): AnswersFile {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  const position = (offset: number) => {
    const { line, col } = lines.linePos(offset);
    return { file, line, column: col };
  };
  const where = (node: Node | null | undefined): string => `${file}:${position(node?.range?.[0] ?? 0).line}`;
  const fail = (node: Node | null | undefined, what: string): never => {
    const at = position(node?.range?.[0] ?? 0);
    throw new ExecuteError('ANSWERS_FILE_INVALID', `${file}:${at.line}:${at.column}: ${what}`, { at });
  };
  const firstError = doc.errors[0];
  if (firstError) {
    const at = position(firstError.pos[0]);
    // The parser's own message quotes the offending line, which may hold a
    // rehearsal secret: only its code is passed on.
    throw new ExecuteError('ANSWERS_FILE_INVALID', `${file}:${at.line}:${at.column}: not valid YAML (${firstError.code})`, { at });
  }

  const answers = new Map<string, AnswerSpec>();
  const destructive = new Set<string>();
  const root = doc.contents;
  if (root === null || (isScalar(root) && root.value === null)) return { file, answers, destructive };
  if (!isMap(root)) return fail(root, 'an answers file is a mapping with `answers` and `destructive`');

  for (const pair of root.items) {
    const keyNode = pair.key as Node | null;
    const key = isScalar(keyNode) ? keyNode.value : undefined;
    if (typeof key !== 'string' || !TOP_LEVEL_KEYS.has(key)) {
      fail(keyNode, `unknown key ${JSON.stringify(key ?? null)} (expected \`answers\` or \`destructive\`)`);
    }
    const value = pair.value as Node | null;
    if (value === null || (isScalar(value) && value.value === null)) continue;
    if (key === 'destructive') {
      if (!isSeq(value)) fail(value, '`destructive` is a list of step ids');
      for (const item of (value as { items: unknown[] }).items) {
        const node = item as Node;
        if (!isScalar(node) || typeof node.value !== 'string' || node.value === '' || node.value.includes('*')) {
          fail(node, 'each `destructive` entry is one step id, written out in full');
        }
        destructive.add((node as Scalar<string>).value);
      }
      continue;
    }
    if (!isMap(value)) fail(value, '`answers` maps prompt ids to answers');
    for (const entry of (value as { items: { key: unknown; value: unknown }[] }).items) {
      const idNode = entry.key as Node | null;
      const id = isScalar(idNode) ? idNode.value : undefined;
      if (typeof id !== 'string' || id === '') fail(idNode, 'a prompt id is a non-empty string');
      answers.set(id as string, answerSpec(entry.value as Node | null, fail, where));
    }
  }
  return { file, answers, destructive };
}

function answerSpec(
  node: Node | null,
  fail: (node: Node | null | undefined, what: string) => never,
  where: (node: Node | null | undefined) => string,
): AnswerSpec {
  if (isMap(node)) {
    const scoped: ScopedAnswer[] = [];
    for (const pair of node.items) {
      const keyNode = pair.key as Node | null;
      const key = isScalar(keyNode) ? keyNode.value : undefined;
      if (typeof key !== 'string') return fail(keyNode, 'a call selector is `*` or `name=value[,name=value…]`');
      const selector = parseSelector(key);
      if (!selector) return fail(keyNode, `call selector ${JSON.stringify(key)} is not \`*\` or \`name=value[,name=value…]\``);
      const valueNode = pair.value as Node | null;
      scoped.push({ selector, value: scalarAnswer(valueNode, fail), at: where(valueNode) });
    }
    return { scoped, at: where(node) };
  }
  return { value: scalarAnswer(node, fail), at: where(node) };
}

function scalarAnswer(node: Node | null, fail: (node: Node | null | undefined, what: string) => never): string | boolean {
  if (!isScalar(node)) return fail(node, 'an answer is a string or a boolean');
  const { value } = node;
  if (typeof value === 'boolean' || typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint') {
    // A serial number such as 0007550054 would silently become 7550054.
    return fail(node, 'numbers must be quoted, so that leading zeros are kept');
  }
  return fail(node, 'an answer is a string or a boolean');
}

function parseSelector(key: string): Record<string, string> | undefined {
  if (key === '*') return {};
  const selector: Record<string, string> = {};
  for (const part of key.split(',')) {
    const m = /^\s*([A-Za-z0-9_.-]+)\s*=\s*([^,]*?)\s*$/.exec(part);
    if (!m || m[2] === '') return undefined;
    const [, name, value] = m as unknown as [string, string, string];
    if (name in selector) return undefined;
    selector[name] = value;
  }
  return selector;
}

function patternRegExp(pattern: string): RegExp {
  const escaped = pattern.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${escaped.join('.*')}$`, 's');
}

/**
 * Finds the answer to prompt `id` asked in a call with `scope`. Exact id
 * first; else the matching pattern with the most literal characters; then,
 * for a per-call answer, the selector naming the most of the call's
 * parameters.
 */
export function lookupAnswer(file: AnswersFile, id: string, scope: PromptScope): AnswerEntry | undefined {
  let spec = file.answers.get(id);
  if (spec === undefined) {
    let best: { key: string; weight: number } | undefined;
    let tie = false;
    for (const key of file.answers.keys()) {
      if (!key.includes('*') || !patternRegExp(key).test(id)) continue;
      const weight = key.replace(/\*/g, '').length;
      if (!best || weight > best.weight) {
        best = { key, weight };
        tie = false;
      } else if (weight === best.weight) {
        tie = true;
      }
    }
    if (best && tie) {
      throw new ExecuteError('PROMPT_ANSWER_AMBIGUOUS', `prompt ${id}: two patterns in ${file.file} match it equally well`);
    }
    if (best) spec = file.answers.get(best.key);
  }
  if (spec === undefined || !('scoped' in spec)) return spec;

  let chosen: ScopedAnswer | undefined;
  let tie = false;
  for (const candidate of spec.scoped) {
    const names = Object.keys(candidate.selector);
    if (!names.every((name) => scope[name] === candidate.selector[name])) continue;
    const chosenWeight = chosen ? Object.keys(chosen.selector).length : -1;
    if (names.length > chosenWeight) {
      chosen = candidate;
      tie = false;
    } else if (names.length === chosenWeight) {
      tie = true;
    }
  }
  if (chosen && tie) {
    throw new ExecuteError('PROMPT_ANSWER_AMBIGUOUS', `prompt ${id}: two call selectors at ${spec.at} match this call equally well`);
  }
  return chosen;
}

/** Shows a call's parameters in an error message: `hsm=YubiHSM2-1`. */
function describeScope(scope: PromptScope): string {
  const parts = Object.entries(scope).map(([k, v]) => `${k}=${v}`);
  return parts.length === 0 ? '' : ` (call ${parts.join(',')})`;
}

/**
 * Answers from a file, for unattended runs. A prompt the file does not answer
 * fails the run at once with the prompt id: an unattended run never waits.
 */
export class ScriptedPromptSource implements PromptSource {
  readonly #file: AnswersFile;

  constructor(file: AnswersFile) {
    this.#file = file;
  }

  confirm(request: ConfirmRequest): Promise<Answered<boolean>> {
    return settle(() => this.#confirm(request));
  }

  secret(request: SecretRequest): Promise<Answered<string>> {
    return settle(() => this.#secret(request));
  }

  input(request: InputRequest): Promise<Answered<string>> {
    return settle(() => this.#input(request));
  }

  select(request: SelectRequest): Promise<Answered<string>> {
    return settle(() => this.#select(request));
  }

  #confirm(request: ConfirmRequest): Answered<boolean> {
    if (request.destructiveStep !== undefined) {
      // The DANGER confirmation is never implied: only the exact step id listed
      // under `destructive` gives it.
      if (!this.#file.destructive.has(request.destructiveStep)) {
        throw new ExecuteError(
          'DESTRUCTIVE_UNCONFIRMED',
          `step ${request.destructiveStep} is destructive and ${this.#file.file} does not list it under \`destructive\``,
        );
      }
      return ({ value: true, origin: 'answers-file' });
    }
    const entry = this.#entry(request);
    const { value } = entry;
    if (typeof value === 'boolean') return ({ value, origin: 'answers-file' });
    const word = value.trim().toLowerCase();
    if (word === 'yes' || word === 'y' || word === 'true') return ({ value: true, origin: 'answers-file' });
    if (word === 'no' || word === 'n' || word === 'false') return ({ value: false, origin: 'answers-file' });
    throw new ExecuteError('PROMPT_ANSWER_INVALID', `${entry.at}: prompt ${request.id} is a yes/no question`);
  }

  #secret(request: SecretRequest): Answered<string> {
    const entry = this.#entry(request);
    // Never echo the value: it is a password or PIN, if only a rehearsal's.
    if (typeof entry.value !== 'string' || entry.value === '') {
      throw new ExecuteError('PROMPT_ANSWER_INVALID', `${entry.at}: prompt ${request.id} needs a non-empty string`);
    }
    return ({ value: entry.value, origin: 'answers-file' });
  }

  #input(request: InputRequest): Answered<string> {
    const entry = this.#entry(request);
    if (typeof entry.value !== 'string') {
      throw new ExecuteError('PROMPT_ANSWER_INVALID', `${entry.at}: prompt ${request.id} needs a string`);
    }
    if (request.pattern && !matchesWhole(request.pattern, entry.value)) {
      const wanted = request.description ?? `an answer matching ${request.pattern.source}`;
      throw new ExecuteError('PROMPT_ANSWER_INVALID', `${entry.at}: the answer to prompt ${request.id} does not fit: ${wanted}`);
    }
    return ({ value: entry.value, origin: 'answers-file' });
  }

  #select(request: SelectRequest): Answered<string> {
    const entry = this.#entry(request);
    const choice = request.choices.find((c) => c.value === entry.value);
    if (!choice) {
      const allowed = request.choices.map((c) => c.value).join(', ');
      throw new ExecuteError('PROMPT_ANSWER_INVALID', `${entry.at}: the answer to prompt ${request.id} must be one of: ${allowed}`);
    }
    return ({ value: choice.value, origin: 'answers-file' });
  }

  #entry(request: { id: string; scope: PromptScope }): AnswerEntry {
    const entry = lookupAnswer(this.#file, request.id, request.scope);
    if (!entry) {
      throw new ExecuteError(
        'PROMPT_UNANSWERED',
        `prompt ${request.id}${describeScope(request.scope)} has no answer in ${this.#file.file}`,
      );
    }
    return entry;
  }
}
