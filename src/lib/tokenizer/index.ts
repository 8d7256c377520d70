export { baseEncoding, CLAUDE_TOKEN_FACTOR, countTokens, countWith, scaleToClaude, TOKENIZERS, type Tokenizer, tokenizerFor } from "./count-tokens";
export { type Encoding, type EncodingName, getEncoding } from "./encoding";
