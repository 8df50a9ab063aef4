package ai.chunkwise.train.data;

/**
 * Where the stream of one dataset stands: the next row is the {@code index}-th row (0-based) that epoch
 * {@code epoch}'s order yields. The order is a function of (seed, epoch) and the manifest alone, so the position
 * is all a resumed run needs to read exactly what an uninterrupted run reads next.
 */
public record SourcePosition(long epoch, long index) {
    public static final SourcePosition START = new SourcePosition(0, 0);

    public SourcePosition {
        if (epoch < 0 || index < 0) {
            throw new IllegalArgumentException("data position must have epoch >= 0 and index >= 0, got epoch "
                    + epoch + ", index " + index);
        }
    }
}
