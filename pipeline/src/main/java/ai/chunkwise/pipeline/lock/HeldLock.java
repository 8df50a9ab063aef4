package ai.chunkwise.pipeline.lock;

/** A held output lock, local ({@link OutputLock}) or on a Hadoop file system ({@link HadoopOutputLock}). */
public interface HeldLock extends AutoCloseable {
    /** Releases the lock; no checked exception, so try-with-resources needs no catch. */
    @Override
    void close();
}
