package ai.chunkwise.train.bench.experiment;

import java.util.SplittableRandom;

/**
 * Retrieval across chunks, built from real text: a window of k x c bytes of Europarl, a random key of
 * {@code keyDigits} decimal digits planted after a marker at a random offset inside chunk k-1-d, and the question
 * (the marker again) at the very end, followed by the answer (the key). Only the answer's digits are targets.
 * d, the key's distance in chunks from the question's chunk, runs from 1 to k-1. The marker '|' never occurs in
 * Europarl (checked when the passage is cut: any '|' in the text is replaced by a space).
 */
public record RetrievalTask(int chunkSize, int chunks, int keyDigits) {
    static final int MARKER = '|';

    public RetrievalTask {
        if (chunks < 2 || keyDigits < 1 || chunkSize < keyDigits + 2) {
            throw new IllegalArgumentException("retrieval task needs >= 2 chunks of >= key digits + 2 tokens, got k="
                    + chunks + " c=" + chunkSize + " digits=" + keyDigits);
        }
    }

    public int length() {
        return chunkSize * chunks;
    }

    /** One sequence: tokens, the answer's target mask, the key and its distance. */
    public record Example(long[] tokens, boolean[] answerMask, int[] key, int distance) {
    }

    /** First position of the answer (the key's copy at the end). */
    public int answerStart() {
        return length() - keyDigits;
    }

    public Example example(int[] text, int distance, SplittableRandom random) {
        if (distance < 1 || distance >= chunks) {
            throw new IllegalArgumentException("distance " + distance + " outside 1.." + (chunks - 1));
        }
        int n = length();
        if (text.length < n) {
            throw new IllegalArgumentException("text of " + text.length + " tokens is shorter than one sequence (" + n + ")");
        }
        int from = random.nextInt(text.length - n + 1);
        long[] tokens = new long[n];
        for (int i = 0; i < n; i++) {
            int b = text[from + i];
            tokens[i] = b == MARKER ? ' ' : b;
        }
        int[] key = new int[keyDigits];
        for (int i = 0; i < keyDigits; i++) {
            key[i] = random.nextInt(10);
        }
        int keyChunk = chunks - 1 - distance;
        int block = keyDigits + 1;
        int at = keyChunk * chunkSize + random.nextInt(chunkSize - block + 1);
        plant(tokens, at, key);
        plant(tokens, n - block, key);
        boolean[] mask = new boolean[n];
        for (int i = answerStart(); i < n; i++) {
            mask[i] = true;
        }
        return new Example(tokens, mask, key, distance);
    }

    private static void plant(long[] tokens, int at, int[] key) {
        tokens[at] = MARKER;
        for (int i = 0; i < key.length; i++) {
            tokens[at + 1 + i] = '0' + key[i];
        }
    }
}
