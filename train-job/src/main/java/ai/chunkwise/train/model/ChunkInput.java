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
 * @param ropeLength  the largest rotary position of the whole batch + 1, which dynamic NTK RoPE scaling depends
 *                    on (transformers computes it per forward call, so every chunk of a batch must use the
 *                    batch's); 0 when the chunk is the whole batch (then the chunk's own positions give it)
 */
public record ChunkInput(long[][] tokens, int[][] positions, int[][] segments, int[][] labels,
                         double[][] lossWeights, int ropeLength) {

    /** A chunk that is a whole batch (its positions are all there are). */
    public ChunkInput(long[][] tokens, int[][] positions, int[][] segments, int[][] labels, double[][] lossWeights) {
        this(tokens, positions, segments, labels, lossWeights, 0);
    }

    /** ropeLength, or the chunk's largest position + 1 when it is not given. */
    public int effectiveRopeLength() {
        if (ropeLength > 0) {
            return ropeLength;
        }
        int max = 0;
        for (int[] row : positions) {
            for (int p : row) {
                max = Math.max(max, p);
            }
        }
        return max + 1;
    }

    public int batch() {
        return tokens.length;
    }

    public int length() {
        return tokens[0].length;
    }
}
