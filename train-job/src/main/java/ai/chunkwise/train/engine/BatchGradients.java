package ai.chunkwise.train.engine;

import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Map;

/**
 * What an engine returns for one batch.
 *
 * @param loss            mean next-token cross-entropy over the batch's {@code predictedTokens} targets
 *                        (exact for every engine: SpaCO reports its pass-1 loss)
 * @param gradients       d loss / d tensor for every trainable tensor, by checkpoint name, in the model dtype
 * @param predictedTokens N, the number of counted targets (the loss's denominator)
 * @param chunks          k, the number of chunks the sequence was cut into (1 for full back-propagation)
 * @param chunksVisited   how many chunks pass 2 back-propagated (k for full and SeCO)
 */
public record BatchGradients(double loss, Map<String, INDArray> gradients, long predictedTokens, int chunks,
                             int chunksVisited) {
}
