package ai.chunkwise.tokenize;

import java.io.UncheckedIOException;

/** One clear line for an error, also when it comes wrapped in Spark's task-failure exceptions. */
final class ErrorMessages {
    private ErrorMessages() {
    }

    static String describe(Throwable e) {
        // Spark wraps an executor's exception ("Job aborted due to stage failure: ... <stack trace>"); the
        // innermost cause is the one that says what went wrong
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        Throwable shown = root.getMessage() != null ? root : e;
        if (e instanceof UncheckedIOException && e.getMessage() != null) {
            shown = e; // our own message names the file; the cause's only repeats the OS error
        }
        String message = shown.getMessage() == null ? shown.getClass().getName() : firstLine(shown.getMessage());
        boolean ours = shown instanceof IllegalArgumentException || shown instanceof IllegalStateException
                || shown instanceof UncheckedIOException;
        return ours ? message : shown.getClass().getSimpleName() + ": " + message;
    }

    private static String firstLine(String s) {
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
