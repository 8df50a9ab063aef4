package ai.chunkwise.pipeline.runner;

/** A pipeline step's process failed: carries its exit code, and the message quotes the end of its stderr. */
public final class StepFailedException extends RuntimeException {
    private final String step;
    private final int exitCode;

    public StepFailedException(String step, int exitCode, String message) {
        super(message);
        this.step = step;
        this.exitCode = exitCode;
    }

    public String step() {
        return step;
    }

    public int exitCode() {
        return exitCode;
    }
}
