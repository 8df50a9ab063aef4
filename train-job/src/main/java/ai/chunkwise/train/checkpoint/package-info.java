/**
 * Hugging Face file formats in and out: safetensors ({@link ai.chunkwise.train.checkpoint.SafeTensors}),
 * Llama checkpoints, single-file or sharded ({@link ai.chunkwise.train.checkpoint.HfCheckpoint}), and PEFT
 * LoRA adapters ({@link ai.chunkwise.train.checkpoint.PeftAdapter}). Tensor names and shapes are exactly
 * Hugging Face's (Linear weights [out, in]), so files move between this trainer and transformers/PEFT
 * unchanged. Every write goes to a temporary name first and is renamed into place
 * ({@link ai.chunkwise.train.checkpoint.AtomicFiles}).
 */
package ai.chunkwise.train.checkpoint;
