package ai.chunkwise.train.engine;

import java.util.Arrays;

/**
 * One batch of training sequences, all of the same length S.
 *
 * @param tokens         [B][S] token ids
 * @param lossMask       [B][S] or null: {@code lossMask[b][j]} is true iff token j is a next-token target
 *                       (predicted from position j-1); null counts every token j >= 1. Position 0 is never a
 *                       target. (Same convention as the dataset's loss_mask column.)
 * @param documentStarts [B][] or null: ascending start positions of the documents packed in each row. When
 *                       given, no position attends across a document boundary, rotary positions restart at 0
 *                       at each start, and a document's first token is never a target (it would be predicted
 *                       from another document). Positions before a row's first start form a document of their own.
 */
public record Batch(long[][] tokens, boolean[][] lossMask, int[][] documentStarts) {

    public Batch {
        if (tokens == null || tokens.length == 0 || tokens[0].length < 2) {
            throw new IllegalArgumentException("a batch needs at least one row of at least 2 tokens");
        }
        int s = tokens[0].length;
        for (int b = 0; b < tokens.length; b++) {
            if (tokens[b].length != s) {
                throw new IllegalArgumentException("batch row " + b + " has " + tokens[b].length
                        + " tokens, row 0 has " + s + ": all rows must have the same length");
            }
        }
        if (lossMask != null) {
            if (lossMask.length != tokens.length) {
                throw new IllegalArgumentException("loss mask has " + lossMask.length + " rows, tokens have " + tokens.length);
            }
            for (int b = 0; b < lossMask.length; b++) {
                if (lossMask[b].length != s) {
                    throw new IllegalArgumentException("loss mask row " + b + " has length " + lossMask[b].length
                            + ", expected " + s);
                }
            }
        }
        if (documentStarts != null) {
            if (documentStarts.length != tokens.length) {
                throw new IllegalArgumentException("document starts given for " + documentStarts.length
                        + " rows, tokens have " + tokens.length);
            }
            for (int b = 0; b < documentStarts.length; b++) {
                int previous = -1;
                for (int start : documentStarts[b]) {
                    if (start <= previous || start >= s) {
                        throw new IllegalArgumentException("document starts of row " + b + " must be strictly "
                                + "ascending within [0, " + s + "): " + Arrays.toString(documentStarts[b]));
                    }
                    previous = start;
                }
            }
        }
    }

    /** Every token of every row counts, one document per row: the convention of the HF fixtures. */
    public static Batch of(long[][] tokens) {
        return new Batch(tokens, null, null);
    }

    public int rows() {
        return tokens.length;
    }

    public int length() {
        return tokens[0].length;
    }
}
