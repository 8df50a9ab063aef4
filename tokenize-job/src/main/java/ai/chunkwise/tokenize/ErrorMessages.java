package ai.chunkwise.tokenize;

/** One clear line for an error, also when it comes wrapped in Spark's task-failure exceptions. */
final class ErrorMessages {
    private ErrorMessages() {
    }

    /**
     * The exception that says what went wrong: Spark wraps an executor's exception in "Job aborted due to stage
     * failure: ... <stack trace>"; the first exception below Spark's own is the one (ours name the file or key).
     */
    static Throwable cause(Throwable e) {
        Throwable shown = e;
        while (isSparkWrapper(shown) && shown.getCause() != null && shown.getCause() != shown) {
            shown = shown.getCause();
        }
        return shown;
    }

    static String describe(Throwable e) {
        Throwable shown = cause(e);
        String message = shown.getMessage() == null ? shown.getClass().getName() : firstLine(shown.getMessage());
        boolean ours = shown instanceof IllegalArgumentException || shown instanceof IllegalStateException
                || shown instanceof java.io.UncheckedIOException;
        return ours ? message : shown.getClass().getSimpleName() + ": " + message;
    }

    private static boolean isSparkWrapper(Throwable t) {
        return t.getClass().getName().startsWith("org.apache.spark.") || t.getMessage() == null;
    }

    private static String firstLine(String s) {
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
