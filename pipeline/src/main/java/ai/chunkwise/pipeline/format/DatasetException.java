package ai.chunkwise.pipeline.format;

/** A dataset is missing, incomplete, corrupt or inconsistent; the message names the file and what to do. */
public class DatasetException extends RuntimeException {

    public DatasetException(String message) {
        super(message);
    }

    public DatasetException(String message, Throwable cause) {
        super(message, cause);
    }
}
