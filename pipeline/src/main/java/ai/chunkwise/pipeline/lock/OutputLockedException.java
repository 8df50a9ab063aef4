package ai.chunkwise.pipeline.lock;

/** Another live process holds the output directory's lock. */
public final class OutputLockedException extends IllegalArgumentException {
    public OutputLockedException(String message) {
        super(message);
    }
}
