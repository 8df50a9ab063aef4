package ai.chunkwise.train.model;

/**
 * Result of a chunk step with back-propagation (parameter gradients go into the caller's accumulator).
 *
 * @param loss      the chunk's weighted token-loss sum
 * @param pastGrads gradient of the objective with respect to the past K/V the chunk attended to (length P),
 *                  or null when P = 0
 */
public record ChunkBackward(double loss, KeyValues pastGrads) {
}
