package ai.chunkwise.train.data;

import ai.chunkwise.pipeline.packing.PackedSequence;
import ai.chunkwise.train.engine.Batch;

import java.util.List;

/**
 * Turns dataset rows into an engine {@link Batch}. The dataset's loss_mask and the engine's lossMask share one
 * convention (position j is a target iff it is predicted from j-1 of the same segment), so it is copied as is.
 * With document boundaries on, each row's doc_starts confine attention and restart rotary positions per document;
 * off, a row is one stream (documents see their predecessors, as plain concat-and-split training does).
 */
public final class BatchAssembler {
    private final boolean documentBoundaries;

    public BatchAssembler(boolean documentBoundaries) {
        this.documentBoundaries = documentBoundaries;
    }

    public Batch assemble(List<PackedSequence> rows) {
        int b = rows.size();
        long[][] tokens = new long[b][];
        boolean[][] mask = new boolean[b][];
        int[][] starts = documentBoundaries ? new int[b][] : null;
        for (int r = 0; r < b; r++) {
            PackedSequence s = rows.get(r);
            int[] ids = s.inputIds();
            tokens[r] = new long[ids.length];
            mask[r] = new boolean[ids.length];
            for (int j = 0; j < ids.length; j++) {
                tokens[r][j] = ids[j];
                mask[r][j] = s.lossMask()[j] != 0;
            }
            if (starts != null) {
                starts[r] = s.docStarts().clone();
            }
        }
        return new Batch(tokens, mask, starts);
    }

    /**
     * The number of next-token targets the engines count in {@code batch} (their loss's denominator): masked-in
     * positions j >= 1 that do not start a document.
     */
    public static long predictedTokens(Batch batch) {
        long n = 0;
        for (int r = 0; r < batch.rows(); r++) {
            boolean[] isStart = new boolean[batch.length()];
            if (batch.documentStarts() != null) {
                for (int s : batch.documentStarts()[r]) {
                    isStart[s] = true;
                }
            }
            for (int j = 1; j < batch.length(); j++) {
                boolean masked = batch.lossMask() == null || batch.lossMask()[r][j];
                if (masked && !isStart[j]) {
                    n++;
                }
            }
        }
        return n;
    }
}
