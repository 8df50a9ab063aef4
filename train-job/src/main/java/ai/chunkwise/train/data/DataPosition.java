package ai.chunkwise.train.data;

/**
 * Where the reader stands in the seeded order: the next sequence to read is entry {@code index} of epoch
 * {@code epoch}'s permutation. Saved in checkpoints so a resumed run reads exactly the sequences an
 * uninterrupted run would have read next.
 */
public record DataPosition(long epoch, long index) {
    public static final DataPosition START = new DataPosition(0, 0);

    public DataPosition {
        if (epoch < 0 || index < 0) {
            throw new IllegalArgumentException("data position must have epoch >= 0 and index >= 0, got epoch "
                    + epoch + ", index " + index);
        }
    }
}
