package ai.chunkwise.train.model;

/**
 * Which keys each query of a chunk may see: query t of row b (key position P+t) sees exactly the keys
 * {@code first[b][t] .. P+t}, a contiguous range because documents are contiguous runs of positions and attention
 * is causal. Attention then needs no [T, P+T] mask: {@link BlockwiseAttention} skips blocks no query sees, adds
 * nothing to blocks every query sees in full, and masks only the blocks a range boundary crosses.
 *
 * @param past  P, the number of cached keys before the chunk
 * @param first [B][T] first visible key of each query
 */
record AttentionKeyRanges(int past, int[][] first) {

    /** Ranges of a chunk: causal, and cut at the start of the document that holds each query. */
    static AttentionKeyRanges of(ChunkInput in, int past) {
        return of(in, past, 0);
    }

    /**
     * As {@link #of(ChunkInput, int)}, and with a sliding window of {@code window} > 0 positions (Mistral) also cut
     * {@code window - 1} keys before each query, as transformers' {@code kv_idx > q_idx - sliding_window}. Key
     * indices here count from the chunk's past start, which the caller keeps at or before the window's start.
     */
    static AttentionKeyRanges of(ChunkInput in, int past, int window) {
        int b = in.batch();
        int t = in.length();
        int keys = past + t;
        int[][] segments = in.segments();
        int[][] first = new int[b][t];
        for (int r = 0; r < b; r++) {
            int[] seg = segments == null ? null : segments[r];
            if (seg != null && seg.length != keys) {
                throw new IllegalArgumentException("segments of row " + r + " cover " + seg.length
                        + " positions, expected past " + past + " + chunk " + t);
            }
            int documentStart = 0;   // first key of the document that holds key past+i
            for (int i = 0; i < t; i++) {
                int query = past + i;
                if (seg != null) {
                    if (i == 0) {
                        documentStart = query;
                        while (documentStart > 0 && seg[documentStart - 1] == seg[query]) {
                            documentStart--;
                        }
                    } else if (seg[query] != seg[query - 1]) {
                        documentStart = query;
                    }
                }
                first[r][i] = window > 0 ? Math.max(documentStart, query - window + 1) : documentStart;
            }
        }
        return new AttentionKeyRanges(past, first);
    }

    int rows() {
        return first.length;
    }

    int queries() {
        return first[0].length;
    }

    /** Last visible key of query t: itself. */
    int last(int t) {
        return past + t;
    }

    /** True if no query of row b sees any key in [from, to). */
    boolean noneVisible(int b, int from, int to) {
        int minFirst = Integer.MAX_VALUE;
        for (int f : first[b]) {
            minFirst = Math.min(minFirst, f);
        }
        return to <= minFirst || from > last(queries() - 1);
    }

    /** True if every query of row b sees every key in [from, to). */
    boolean allVisible(int b, int from, int to) {
        int maxFirst = 0;
        for (int f : first[b]) {
            maxFirst = Math.max(maxFirst, f);
        }
        return from >= maxFirst && to - 1 <= last(0);
    }
}
