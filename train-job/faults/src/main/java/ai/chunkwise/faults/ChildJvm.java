package ai.chunkwise.faults;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** A job run as a separate JVM on this JVM's class path, so that it can be killed with SIGKILL. */
final class ChildJvm {
    /** The --add-opens flags Spark and Arrow need on Java 17 (the same as spark-submit adds). */
    private static final List<String> OPENS = List.of(
            "--add-opens=java.base/java.nio=ALL-UNNAMED", "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
            "--add-opens=java.base/java.lang=ALL-UNNAMED", "--add-opens=java.base/java.lang.invoke=ALL-UNNAMED",
            "--add-opens=java.base/java.util=ALL-UNNAMED", "--add-opens=java.base/java.util.concurrent=ALL-UNNAMED",
            "--add-opens=java.base/sun.nio.cs=ALL-UNNAMED", "--add-opens=java.base/sun.security.action=ALL-UNNAMED",
            "--add-opens=java.base/sun.util.calendar=ALL-UNNAMED", "--add-opens=java.base/java.io=ALL-UNNAMED",
            "--add-opens=java.base/java.net=ALL-UNNAMED");

    private ChildJvm() {
    }

    static Process start(String mainClass, List<String> args, Path log) {
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElse("java"));
        cmd.add("-Xmx1g");
        cmd.add("-XX:+UseSerialGC");
        cmd.add("-Dorg.bytedeco.javacpp.maxphysicalbytes=4G");
        cmd.addAll(OPENS);
        cmd.add("-cp");
        cmd.add(classPathFor(mainClass));
        cmd.add(mainClass);
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().put("OMP_NUM_THREADS", "1");
        try {
            return pb.start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + mainClass + ": " + e.getMessage(), e);
        }
    }

    /**
     * This JVM's class path, less train-job.jar and pipeline.jar for the tokenize job: train-job.jar's manifest
     * Class-Path brings ND4J's commons-lang3 3.11 ahead of Spark's 3.17 (Spark then fails: NoSuchFieldError
     * JAVA_21), and pipeline.jar's classes use the plain picocli that tokenize-job.jar (which carries them) relocates.
     */
    private static String classPathFor(String mainClass) {
        String classPath = System.getProperty("java.class.path");
        if (!mainClass.equals(KillTrials.TOKENIZE_MAIN)) {
            return classPath;
        }
        return String.join(java.io.File.pathSeparator, java.util.Arrays.stream(classPath.split(java.io.File.pathSeparator))
                .filter(entry -> !entry.endsWith("train-job.jar") && !entry.endsWith("pipeline.jar")).toList());
    }

    /** Runs to the end; returns the exit code. */
    static int run(String mainClass, List<String> args, Path log, long timeoutSeconds) {
        Process p = start(mainClass, args, log);
        try {
            if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                kill(p);
                throw new IllegalStateException(mainClass + " did not finish within " + timeoutSeconds + " s (log " + log + ")");
            }
            return p.exitValue();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            kill(p);
            throw new IllegalStateException("interrupted", e);
        }
    }

    /** kill -9: Process.destroyForcibly sends SIGKILL on Linux; waits until the process is gone. */
    static void kill(Process p) {
        p.destroyForcibly();
        try {
            p.waitFor(60, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
