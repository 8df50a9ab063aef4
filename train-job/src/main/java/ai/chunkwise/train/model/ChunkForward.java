package ai.chunkwise.train.model;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Result of a forward-only chunk step.
 *
 * @param loss    the chunk's weighted token-loss sum (with 1/N weights: its share of the mean loss)
 * @param present the chunk's own K/V of every layer, [B, kvHeads, T, headDim]
 * @param logits  [B, T, vocab] when requested, else null
 */
public record ChunkForward(double loss, KeyValues present, INDArray logits) {
}
