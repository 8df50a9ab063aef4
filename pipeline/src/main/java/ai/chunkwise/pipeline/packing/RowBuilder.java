package ai.chunkwise.pipeline.packing;

import java.util.Arrays;

/** Fills one row: document segments at chosen positions, padding everywhere else. */
final class RowBuilder {

    private final int seqLen;
    private final int padId;
    private int[] ids;
    private int position;
    private int[] starts = new int[8];
    private int[] lengths = new int[8];
    private int segments;
    private int covered;
    private boolean continuesPrevious;

    RowBuilder(int seqLen, int padId) {
        this.seqLen = seqLen;
        this.padId = padId;
        reset(false);
    }

    int position() {
        return position;
    }

    int remaining() {
        return seqLen - position;
    }

    boolean isEmpty() {
        return segments == 0;
    }

    /** Leaves positions up to {@code newPosition} as padding. */
    void padTo(int newPosition) {
        if (newPosition < position || newPosition > seqLen) {
            throw new IllegalStateException("cannot pad from " + position + " to " + newPosition + " in a row of " + seqLen);
        }
        position = newPosition;
    }

    /** Appends {@code length} tokens of {@code tokens} from {@code from} as one segment at the current position. */
    void addSegment(int[] tokens, int from, int length) {
        if (length <= 0 || length > remaining()) {
            throw new IllegalStateException("segment of " + length + " tokens does not fit the " + remaining() + " left");
        }
        System.arraycopy(tokens, from, ids, position, length);
        if (segments == starts.length) {
            starts = Arrays.copyOf(starts, segments * 2);
            lengths = Arrays.copyOf(lengths, segments * 2);
        }
        starts[segments] = position;
        lengths[segments] = length;
        segments++;
        covered += length;
        position += length;
    }

    /** Builds the row (the loss mask follows from the segments) and starts a new empty one. */
    PackedSequence buildAndReset(long seqId, boolean nextContinuesPrevious) {
        byte[] lossMask = new byte[seqLen];
        for (int s = 0; s < segments; s++) {
            // a segment's first token has no predecessor in its document within this row
            Arrays.fill(lossMask, starts[s] + 1, starts[s] + lengths[s], (byte) 1);
        }
        PackedSequence row = new PackedSequence(seqId, ids, lossMask, Arrays.copyOf(starts, segments),
                Arrays.copyOf(lengths, segments), continuesPrevious, seqLen - covered);
        reset(nextContinuesPrevious);
        return row;
    }

    private void reset(boolean nextContinuesPrevious) {
        ids = new int[seqLen];
        Arrays.fill(ids, padId);
        position = 0;
        segments = 0;
        covered = 0;
        continuesPrevious = nextContinuesPrevious;
    }
}
