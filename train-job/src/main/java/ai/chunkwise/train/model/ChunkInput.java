package ai.chunkwise.train.model;

/**
 * Everything one chunk step needs besides the weights and the past K/V, as plain Java data (B rows of T
 * tokens). The past it attends to has P = {@code segments[b].length - T} positions.
 *
 * @param tokens      [B][T] token ids of the chunk
 * @param positions   [B][T] rotary positions (restart at 0 at each document start)
 * @param segments    [B][P+T] document id of every key position (past then chunk), or null when the whole
 *                    row is one document: a query sees a key only if the key is not later and belongs to
 *                    the same document (a document is a contiguous run of equal ids)
 * @param labels      [B][T] next-token target of each position (any valid id where the weight is 0)
 * @param lossWeights [B][T] weight of each position's token loss (1/N for counted ones, 0 otherwise)
 */
public record ChunkInput(long[][] tokens, int[][] positions, int[][] segments, int[][] labels,
                         double[][] lossWeights) {

    public int batch() {
        return tokens.length;
    }

    public int length() {
        return tokens[0].length;
    }
}
