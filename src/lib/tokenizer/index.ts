export { countTokens, countWith, tokenizerFor, baseEncoding, scaleToClaude, CLAUDE_TOKEN_FACTOR, TOKENIZERS, type Tokenizer } from "./count-tokens";
export { getEncoding, type EncodingName, type Encoding } from "./encoding";
