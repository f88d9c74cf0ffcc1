// A made-up SentencePiece-style vocabulary for random-weight models: the tokens llama.cpp needs
// (<unk>, <s>, </s>, the 256 byte-fallback tokens) and then printable pieces, shortest first, so
// that any text tokenizes and any generated token detokenizes to readable characters.
import { TokenType, type SpmVocabulary } from '#gguf';

const SPACE = '\u2581'; // SentencePiece's visible space
const LETTERS = 'abcdefghijklmnopqrstuvwxyz';
const SPECIAL_AND_BYTES = 3 + 256;

export function syntheticVocabulary(size: number): SpmVocabulary {
  if (size < SPECIAL_AND_BYTES + 1)
    throw new RangeError(`vocabulary size must be at least ${SPECIAL_AND_BYTES + 1}, got ${size}`);
  const tokens = ['<unk>', '<s>', '</s>'];
  const tokenTypes: number[] = [TokenType.unknown, TokenType.control, TokenType.control];
  for (let byte = 0; byte < 256; byte++) {
    tokens.push(`<0x${byte.toString(16).toUpperCase().padStart(2, '0')}>`);
    tokenTypes.push(TokenType.byte);
  }
  for (const piece of printablePieces()) {
    if (tokens.length === size) break;
    tokens.push(piece);
    tokenTypes.push(TokenType.normal);
  }
  // Pieces are ranked like SentencePiece log-probabilities: earlier (shorter) pieces score higher.
  const scores = tokens.map((_, id) => (tokenTypes[id] === TokenType.normal ? -(id - SPECIAL_AND_BYTES) : 0));
  return { tokens, scores, tokenTypes, bosId: 1, eosId: 2, unkId: 0, addBos: true, addSpacePrefix: true };
}

/** '▁', printable ASCII with and without a leading space, then letter strings of growing length. */
function* printablePieces(): Generator<string> {
  yield SPACE;
  for (let code = 0x21; code <= 0x7e; code++) {
    yield String.fromCharCode(code);
    yield SPACE + String.fromCharCode(code);
  }
  for (let length = 2; ; length++) {
    for (const word of lowercaseWords(length)) {
      yield SPACE + word;
      yield word;
    }
  }
}

function* lowercaseWords(length: number): Generator<string> {
  if (length === 0) {
    yield '';
    return;
  }
  for (const prefix of lowercaseWords(length - 1)) for (const letter of LETTERS) yield prefix + letter;
}
