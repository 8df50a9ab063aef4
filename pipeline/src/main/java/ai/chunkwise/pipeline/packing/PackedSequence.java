package ai.chunkwise.pipeline.packing;

import java.util.Arrays;
import java.util.Objects;

/**
 * One training row of exactly seqLen tokens.
 *
 * <p>{@code docStarts/docLengths} are the document segments in this row (ascending, non-overlapping);
 * positions outside every segment are padding. {@code lossMask[j] == 1} iff token j is a next-token
 * target, i.e. j and j-1 lie in the same segment. {@code continuesPrevious}: the first segment continues
 * a document begun in the previous row.
 */
public record PackedSequence(long seqId, int[] inputIds, byte[] lossMask, int[] docStarts, int[] docLengths,
                             boolean continuesPrevious, int padding) {

    /** Checks the structure (lengths, segment bounds, padding count); the content is the producer's job. */
    public PackedSequence {
        Objects.requireNonNull(inputIds, "inputIds");
        Objects.requireNonNull(lossMask, "lossMask");
        Objects.requireNonNull(docStarts, "docStarts");
        Objects.requireNonNull(docLengths, "docLengths");
        int seqLen = inputIds.length;
        if (lossMask.length != seqLen) {
            throw new IllegalArgumentException("sequence " + seqId + ": lossMask has " + lossMask.length
                    + " entries, inputIds " + seqLen);
        }
        if (docStarts.length != docLengths.length) {
            throw new IllegalArgumentException("sequence " + seqId + ": " + docStarts.length + " docStarts but "
                    + docLengths.length + " docLengths");
        }
        long covered = 0;
        int previousEnd = 0;
        for (int i = 0; i < docStarts.length; i++) {
            int start = docStarts[i];
            int length = docLengths[i];
            if (start < previousEnd || length <= 0 || (long) start + length > seqLen) {
                throw new IllegalArgumentException("sequence " + seqId + ": segment " + i + " [" + start + ", +"
                        + length + ") is empty, overlaps the previous one or leaves the row of " + seqLen + " tokens");
            }
            previousEnd = start + length;
            covered += length;
        }
        if (padding != seqLen - covered) {
            throw new IllegalArgumentException("sequence " + seqId + ": padding is " + padding + " but the segments leave "
                    + (seqLen - covered) + " of " + seqLen + " positions uncovered");
        }
    }

    public int seqLen() {
        return inputIds.length;
    }

    /** The same row under another id (the Spark job adds a per-shard offset to the packer's ids). */
    public PackedSequence withSeqId(long newSeqId) {
        return new PackedSequence(newSeqId, inputIds, lossMask, docStarts, docLengths, continuesPrevious, padding);
    }

    /** Number of positions that are next-token targets. */
    public int targetCount() {
        int n = 0;
        for (byte b : lossMask) {
            n += b;
        }
        return n;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof PackedSequence p && seqId == p.seqId && continuesPrevious == p.continuesPrevious
                && padding == p.padding && Arrays.equals(inputIds, p.inputIds) && Arrays.equals(lossMask, p.lossMask)
                && Arrays.equals(docStarts, p.docStarts) && Arrays.equals(docLengths, p.docLengths);
    }

    @Override
    public int hashCode() {
        return Objects.hash(seqId, continuesPrevious, padding, Arrays.hashCode(inputIds), Arrays.hashCode(lossMask),
                Arrays.hashCode(docStarts), Arrays.hashCode(docLengths));
    }

    @Override
    public String toString() {
        return "PackedSequence{seqId=" + seqId + ", inputIds=" + abbreviated(inputIds) + ", lossMask="
                + abbreviated(lossMask) + ", docStarts=" + Arrays.toString(docStarts) + ", docLengths="
                + Arrays.toString(docLengths) + ", continuesPrevious=" + continuesPrevious + ", padding=" + padding + "}";
    }

    private static String abbreviated(int[] a) {
        return a.length <= 64 ? Arrays.toString(a) : Arrays.toString(Arrays.copyOf(a, 64)) + "... (" + a.length + ")";
    }

    private static String abbreviated(byte[] a) {
        return a.length <= 64 ? Arrays.toString(a) : Arrays.toString(Arrays.copyOf(a, 64)) + "... (" + a.length + ")";
    }
}
