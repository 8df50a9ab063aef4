/**
 * Turning gradients into parameter updates: {@link ai.chunkwise.train.optim.AdamW} (torch.optim.AdamW
 * semantics, resumable state), {@link ai.chunkwise.train.optim.LearningRateSchedule} (linear warm-up, cosine
 * decay to a floor), {@link ai.chunkwise.train.optim.GradientClipping} (global L2 norm, as
 * clip_grad_norm_) and {@link ai.chunkwise.train.optim.GradientAccumulator} (token-weighted mean over
 * micro-batches).
 */
package ai.chunkwise.train.optim;
