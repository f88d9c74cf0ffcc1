export { GgufFormatError, GgufValidationError } from './errors.js';
export {
  GgmlType,
  ggmlBlockLayout,
  ggmlTensorByteSize,
  ggmlTypeName,
  type GgmlTypeId,
  type GgmlTypeName,
} from './ggml-types.js';
export { GGUF_DEFAULT_ALIGNMENT, GGUF_MAGIC, GGUF_VERSION } from './gguf-format.js';
export {
  GgufValueTypeId,
  ggufValue,
  type GgufBigIntType,
  type GgufMetadata,
  type GgufNumberType,
  type GgufScalar,
  type GgufScalarType,
  type GgufValue,
} from './gguf-value.js';
export { float16ToFloat32, float32ToFloat16 } from './float16.js';
export {
  isWritableGgmlType,
  quantize,
  quantizeF16,
  quantizeF32,
  quantizeQ4_0,
  quantizeQ8_0,
  writableGgmlTypes,
  type WritableGgmlType,
} from './quantize.js';
export {
  writeGgufFile,
  type GgufContent,
  type GgufTensorInput,
  type GgufWriteResult,
  type TensorValues,
} from './gguf-writer.js';
export { readGgufHeader, type GgufHeader, type GgufTensorInfo } from './gguf-reader.js';
export { validateGgufFile, type GgufValidationOptions, type ValidatedGgufFile } from './gguf-validator.js';
export {
  headDimensions,
  isLlamaFamilyArchitecture,
  llamaFamilyArchitectures,
  llamaFamilyMetadata,
  llamaFamilyParameterCount,
  llamaFamilyTensorSpecs,
  llamaFamilyTensorsToWrite,
  llamaFileType,
  type LlamaFamilyArchitecture,
  type LlamaFamilyHyperparameters,
  type LlamaFamilyShape,
  type LlamaFamilyTensorSpec,
  type TensorRole,
} from './llama-family.js';
export { TokenType, spmTokenizerMetadata, type SpmVocabulary } from './spm-tokenizer-metadata.js';
export {
  CHAT_TEMPLATE_KEY,
  chatTemplateMetadata,
  setChatTemplate,
  withChatTemplate,
  type SetChatTemplateOptions,
} from './chat-template.js';
export { rewriteGgufMetadata, type GgufMetadataRewrite } from './gguf-metadata-rewrite.js';
