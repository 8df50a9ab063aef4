/**
 * The Llama model ({@code LlamaForCausalLM} semantics, and the Mistral, Qwen2 and Qwen3 variants of
 * {@link ai.chunkwise.train.model.ModelFamily}) run one decoder layer at a time for a chunk of T tokens attending
 * to a past of P cached tokens ({@link ai.chunkwise.train.model.LlamaModel}): two SameDiff graphs shared by all
 * layers with the weights as placeholders, the flash-attention core between them
 * ({@link ai.chunkwise.train.model.BlockwiseAttention}) and the vocabulary-blocked LM head and loss
 * ({@link ai.chunkwise.train.model.LmHeadLoss}). Rotary tables ({@link ai.chunkwise.train.model.RotaryEmbedding},
 * HF's float32 angles), the key range each query sees, the embedding rows and the next-token targets are fed as
 * data, so the graphs serve every layer, chunk, past length,
 * document layout and position restart. {@link ai.chunkwise.train.model.LlamaConfig} and
 * {@link ai.chunkwise.train.model.RopeScaling} describe the architecture (config.json);
 * {@link ai.chunkwise.train.model.LlamaTensorLayout}, {@link ai.chunkwise.train.model.LlamaProjection},
 * {@link ai.chunkwise.train.model.LoraConfig} and {@link ai.chunkwise.train.model.LoraWeights} name its tensors.
 * This package reads and writes no files: Hugging Face formats live in {@code ai.chunkwise.train.checkpoint},
 * which depends on this one and not the other way round.
 */
package ai.chunkwise.train.model;
