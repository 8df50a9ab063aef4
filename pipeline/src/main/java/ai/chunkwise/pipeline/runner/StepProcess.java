package ai.chunkwise.pipeline.runner;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Map;

/**
 * Runs one step's command as a child process: its stdout and stderr are passed through to the runner's (so the
 * user sees the job's own progress), the last lines of stderr are kept, and a non-zero exit becomes a
 * {@link StepFailedException} that quotes them.
 */
final class StepProcess {
    static final int TAIL_LINES = 20;

    private StepProcess() {
    }

    static void run(String step, List<String> command, Path workingDir, Map<String, String> environment,
                    PrintStream out, PrintStream err) {
        ProcessBuilder pb = new ProcessBuilder(command).directory(workingDir.toFile());
        pb.environment().putAll(environment);
        Process process;
        try {
            process = pb.start();
        } catch (IOException e) {
            throw new StepFailedException(step, -1, "step '" + step + "' could not start " + command.get(0) + ": "
                    + e.getMessage() + " (check the step's command / java path in the pipeline configuration)");
        }
        try {
            process.getOutputStream().close();
        } catch (IOException ignored) {
            // the child may already have exited
        }
        Deque<String> tail = new ArrayDeque<>();
        Thread stdout = pump(process.getInputStream(), out, null, step + "-stdout");
        Thread stderr = pump(process.getErrorStream(), err, tail, step + "-stderr");
        int exit;
        try {
            exit = process.waitFor();
            stdout.join();
            stderr.join();
        } catch (InterruptedException e) {
            process.destroy();
            Thread.currentThread().interrupt();
            throw new StepFailedException(step, -1, "step '" + step + "' was interrupted");
        }
        if (exit != 0) {
            String lines;
            synchronized (tail) {
                lines = tail.isEmpty() ? "  (its stderr was empty)" : "  " + String.join("\n  ", tail);
            }
            throw new StepFailedException(step, exit, "step '" + step + "' failed with exit code " + exit
                    + "; the last lines of its stderr:\n" + lines);
        }
    }

    private static Thread pump(InputStream in, PrintStream to, Deque<String> tail, String name) {
        Thread t = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    to.println(line);
                    if (tail != null) {
                        synchronized (tail) {
                            tail.addLast(line);
                            if (tail.size() > TAIL_LINES) {
                                tail.removeFirst();
                            }
                        }
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }, name);
        t.setDaemon(true);
        t.start();
        return t;
    }
}
