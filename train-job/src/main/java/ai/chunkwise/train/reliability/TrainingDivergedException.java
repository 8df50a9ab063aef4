package ai.chunkwise.train.reliability;

/** The run stopped because too many optimizer steps in a row had a non-finite loss or gradient. */
public final class TrainingDivergedException extends RuntimeException {
    public TrainingDivergedException(String message) {
        super(message);
    }
}
