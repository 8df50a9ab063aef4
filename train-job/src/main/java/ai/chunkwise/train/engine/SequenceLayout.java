package ai.chunkwise.train.engine;

import ai.chunkwise.train.model.ChunkInput;

import java.util.Arrays;

/**
 * Per-position facts of a batch, derived once: document id, rotary position, next-token target and whether it
 * counts. Slices them into {@link ChunkInput}s. Position j's target is token j+1 (so the target of a chunk's
 * last position is the first token of the next chunk); the last position of a row has none.
 */
final class SequenceLayout {
    private final Batch batch;
    private final int[][] segments;
    private final int[][] positions;
    private final int[][] labels;
    private final boolean[][] counted;
    private final int[][] documentStarts;
    private final long predictedTokens;
    private final int slidingWindow;
    /** Largest rotary position of the batch + 1 (dynamic NTK RoPE depends on it). */
    private final int ropeLength;

    SequenceLayout(Batch batch) {
        this(batch, 0);
    }

    /** @param slidingWindow the model's attention window (Mistral), 0 for none: chunks then need less past */
    SequenceLayout(Batch batch, int slidingWindow) {
        this.batch = batch;
        this.slidingWindow = slidingWindow;
        int rows = batch.rows();
        int s = batch.length();
        segments = new int[rows][s];
        positions = new int[rows][s];
        labels = new int[rows][s];
        counted = new boolean[rows][s];
        documentStarts = new int[rows][];
        long n = 0;
        for (int b = 0; b < rows; b++) {
            int[] starts = batch.documentStarts() == null ? new int[0] : batch.documentStarts()[b];
            documentStarts[b] = starts;
            int segment = 0;
            int segmentStart = 0;
            int next = 0;
            for (int j = 0; j < s; j++) {
                boolean isStart = next < starts.length && starts[next] == j;
                if (isStart) {
                    if (j > 0) {
                        segment++;
                    }
                    segmentStart = j;
                    next++;
                }
                segments[b][j] = segment;
                positions[b][j] = j - segmentStart;
            }
            for (int j = 0; j + 1 < s; j++) {
                int target = j + 1;
                labels[b][j] = (int) batch.tokens()[b][target];
                boolean sameDocument = segments[b][target] == segments[b][j];
                boolean masked = batch.lossMask() != null && !batch.lossMask()[b][target];
                counted[b][j] = sameDocument && !masked;
                if (counted[b][j]) {
                    n++;
                }
            }
        }
        this.predictedTokens = n;
        int maxPosition = 0;
        for (int[] row : positions) {
            for (int p : row) {
                maxPosition = Math.max(maxPosition, p);
            }
        }
        this.ropeLength = maxPosition + 1;
        if (n == 0) {
            throw new IllegalArgumentException("the batch has no counted next-token targets (loss mask and "
                    + "document starts exclude every position): nothing to train on");
        }
    }

    long predictedTokens() {
        return predictedTokens;
    }

    int length() {
        return batch.length();
    }

    int rows() {
        return batch.rows();
    }

    /**
     * First position whose K/V chunk {@code [start, ...)} may need: the earliest start, over rows, of the
     * document that contains {@code start}. Keys before it are hidden from every query of the chunk, so the
     * engines drop them; when every row has a document starting at {@code start} the chunk runs with no past.
     * With a sliding window, keys more than window-1 positions before {@code start} are hidden from every query
     * too, so the chunk's past is at most the window.
     */
    int pastStart(int start) {
        int documents = documentPastStart(start);
        return slidingWindow > 0 ? Math.max(documents, start - slidingWindow + 1) : documents;
    }

    private int documentPastStart(int start) {
        if (batch.documentStarts() == null) {
            return 0;
        }
        int earliest = start;
        for (int b = 0; b < batch.rows(); b++) {
            int[] starts = documentStarts[b];
            int idx = Arrays.binarySearch(starts, start);
            int docStart = idx >= 0 ? start : (-idx - 2 >= 0 ? starts[-idx - 2] : 0);
            earliest = Math.min(earliest, docStart);
        }
        return earliest;
    }

    /**
     * The chunk [start, end) attending to the past [pastStart, start); every counted target weighs
     * {@code weightScale / N} (N = predicted tokens of the whole batch; SpaCO passes 1/q as the scale).
     */
    ChunkInput chunk(int start, int end, int pastStart, double weightScale) {
        int rows = batch.rows();
        int t = end - start;
        long[][] tok = new long[rows][];
        int[][] pos = new int[rows][];
        int[][] seg = batch.documentStarts() == null ? null : new int[rows][];
        int[][] lab = new int[rows][];
        double[][] w = new double[rows][t];
        double weight = weightScale / predictedTokens;
        for (int b = 0; b < rows; b++) {
            tok[b] = Arrays.copyOfRange(batch.tokens()[b], start, end);
            pos[b] = Arrays.copyOfRange(positions[b], start, end);
            if (seg != null) {
                seg[b] = Arrays.copyOfRange(segments[b], pastStart, end);
            }
            lab[b] = Arrays.copyOfRange(labels[b], start, end);
            for (int i = 0; i < t; i++) {
                w[b][i] = counted[b][start + i] ? weight : 0.0;
            }
        }
        return new ChunkInput(tok, pos, seg, lab, w, ropeLength);
    }
}
