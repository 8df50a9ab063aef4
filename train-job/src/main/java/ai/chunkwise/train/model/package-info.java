/**
 * The Llama model ({@code LlamaForCausalLM} semantics, and the Mistral, Qwen2 and Qwen3 variants of
 * {@link ai.chunkwise.train.model.ModelFamily}) as SameDiff graphs for a chunk of T tokens attending
 * to a past of P cached tokens ({@link ai.chunkwise.train.model.LlamaModel}). Rotary tables
 * ({@link ai.chunkwise.train.model.RotaryEmbedding}, HF's float32 angles), the additive attention mask, the
 * embedding rows and the next-token targets are fed as data, so one graph serves every chunk, past length,
 * document layout and position restart. {@link ai.chunkwise.train.model.LlamaConfig} and
 * {@link ai.chunkwise.train.model.RopeScaling} describe the architecture (config.json);
 * {@link ai.chunkwise.train.model.LlamaTensorLayout}, {@link ai.chunkwise.train.model.LlamaProjection},
 * {@link ai.chunkwise.train.model.LoraConfig} and {@link ai.chunkwise.train.model.LoraWeights} name its tensors.
 * This package reads and writes no files: Hugging Face formats live in {@code ai.chunkwise.train.checkpoint},
 * which depends on this one and not the other way round.
 */
package ai.chunkwise.train.model;
