package ai.chunkwise.train.checkpoint;

import java.nio.file.Path;

/** A checkpoint that cannot be trusted: a file missing, truncated, altered, or holding non-finite numbers. */
public final class CheckpointDamagedException extends IllegalArgumentException {
    private final transient Path checkpoint;

    public CheckpointDamagedException(Path checkpoint, String what) {
        super("checkpoint " + checkpoint + " is damaged: " + what);
        this.checkpoint = checkpoint;
    }

    public Path checkpoint() {
        return checkpoint;
    }
}
