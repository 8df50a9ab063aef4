package ai.chunkwise.train.memory;

import java.util.Optional;

/**
 * Turns running out of memory (JavaCPP's limit, a failed native allocation, or the Java heap) into one message
 * that names the budget in force and what to change, instead of an OutOfMemoryError's stack trace.
 */
public final class OutOfMemory {
    /** The exit code of a run that ran out of memory. */
    public static final int EXIT_CODE = ai.chunkwise.pipeline.cli.ExitCodes.FAILED;

    private OutOfMemory() {
    }

    /** The out-of-memory error in {@code t}'s cause chain (ND4J and picocli may wrap it), if any. */
    public static Optional<OutOfMemoryError> find(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
            if (c instanceof OutOfMemoryError oom) {
                return Optional.of(oom);
            }
        }
        return Optional.empty();
    }

    /** The message for a run that ran out of memory with {@code budget} in force. */
    public static String message(OutOfMemoryError e, MemoryBudget budget) {
        String what = firstLine(e);
        // JavaCPP's own reason ("physicalBytes (193M) > maxPhysicalBytes (150M)") is the cause of its allocation failure
        for (Throwable c = e.getCause(); c != null && c != c.getCause(); c = c.getCause()) {
            if (c instanceof OutOfMemoryError inner) {
                what += ": " + firstLine(inner);
            }
        }
        boolean heap = what.contains("Java heap space") || what.contains("GC overhead");
        return "ran out of memory (" + what + ") under the memory budget of " + budget.describe() + ". Make the run "
                + "need less, a smaller chunk (train.method.chunk-size), shorter sequences (tokenize with fewer "
                + "--chunks-per-seq) or a smaller train.batch-size, or raise " + MemoryBudget.KEY
                + " (--set " + MemoryBudget.KEY + "=16G; at most what the machine has free)"
                + (heap ? "; this was the Java heap: give java a larger -Xmx" : "");
    }

    private static String firstLine(Throwable t) {
        return t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage().lines().findFirst().orElse("");
    }
}
