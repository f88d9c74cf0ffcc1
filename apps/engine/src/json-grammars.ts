import type { Llama, LlamaGrammar, LlamaGrammarEvaluationState } from 'node-llama-cpp';
import { validationError } from './errors.js';
import type { JsonGrammarRequest } from './grammar-request.js';
import { triggerTexts } from './stop-triggers.js';

export interface GrammarConstraint {
  state: LlamaGrammarEvaluationState;
  /** Where the grammar's output ends (node-llama-cpp's JSON grammars: a run of newlines after the value). */
  endOfOutput: string[];
}

const CAPACITY = 64;

/**
 * llama.cpp grammars for JSON output, compiled once per schema and kept for the schemas used most recently
 * (compiling a schema's GBNF costs far more than a request's sampling). Each generation gets its own evaluation
 * state: the state follows the tokens sampled, the grammar is shared.
 */
export class JsonGrammars {
  private readonly cache = new Map<string, Promise<LlamaGrammar>>();

  constructor(
    private readonly llama: Llama,
    private readonly newState: (grammar: LlamaGrammar) => LlamaGrammarEvaluationState,
    private readonly capacity = CAPACITY,
  ) {}

  /** A fresh evaluation state for `request`; a schema llama.cpp cannot compile is the request's fault (422). */
  async constraintFor(request: JsonGrammarRequest): Promise<GrammarConstraint> {
    const grammar = await this.grammarFor(request);
    return { state: this.newState(grammar), endOfOutput: triggerTexts(grammar.stopGenerationTriggers) };
  }

  private grammarFor(request: JsonGrammarRequest): Promise<LlamaGrammar> {
    const key = request.schema === null ? '' : JSON.stringify(request.schema);
    const cached = this.cache.get(key);
    if (cached) {
      this.cache.delete(key); // most recently used last
      this.cache.set(key, cached);
      return cached;
    }
    const compiled = this.compile(request);
    this.cache.set(key, compiled);
    compiled.catch(() => this.cache.delete(key)); // a refused schema is not kept
    while (this.cache.size > this.capacity) this.cache.delete(this.cache.keys().next().value!);
    return compiled;
  }

  private async compile({ schema }: JsonGrammarRequest): Promise<LlamaGrammar> {
    try {
      if (schema === null) return await this.llama.getGrammarFor('json');
      const grammar = await this.llama.createGrammarForJsonSchema(
        schema as Parameters<Llama['createGrammarForJsonSchema']>[0],
      );
      const integers = finiteIntegers(grammar.grammar);
      if (integers === grammar.grammar) return grammar;
      return await this.llama.createGrammar({
        grammar: integers,
        stopGenerationTriggers: grammar.stopGenerationTriggers,
        trimWhitespaceSuffix: grammar.trimWhitespaceSuffix,
        rootRuleName: grammar.rootRuleName,
      });
    } catch (error) {
      throw validationError(`grammar is not valid: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}

/**
 * node-llama-cpp's rule for a schema's `integer` takes an exponent of up to 16 digits (`5e999`), which JSON readers
 * turn into Infinity: not an integer, and not what the schema asked for. Its integers here are digits only (up to
 * 16, as its rule has them).
 */
const INTEGER_RULE = /^(integer-number-rule ::= "-"\? \("0" \| \[1-9\] \[0-9\]\{0,15\}\)) \(\[eE\].*$/m;

function finiteIntegers(grammar: string): string {
  return grammar.replace(INTEGER_RULE, '$1');
}
