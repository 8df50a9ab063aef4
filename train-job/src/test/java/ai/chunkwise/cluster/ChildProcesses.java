package ai.chunkwise.cluster;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The processes a cluster test starts (HDFS, Spark Master and Workers, jobs): each logs to its own file and is
 * killed with its children when the test closes them, and by a JVM shutdown hook if the test JVM dies first.
 */
final class ChildProcesses implements AutoCloseable {
    private final List<Process> started = new ArrayList<>();
    private final Thread hook = new Thread(this::killAll, "cluster-it-cleanup");

    ChildProcesses() {
        Runtime.getRuntime().addShutdownHook(hook);
    }

    /** Starts a command with extra environment variables, stdout and stderr to {@code log}. */
    synchronized Process start(List<String> command, Map<String, String> env, Path workDir, Path log) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(command).directory(workDir.toFile())
                .redirectErrorStream(true).redirectOutput(log.toFile()).redirectInput(ProcessBuilder.Redirect.PIPE);
        pb.environment().putAll(env);
        Process p = pb.start();
        started.add(p);
        return p;
    }

    /** Runs a command to its end (killed after {@code timeoutSeconds}) and returns its exit code. */
    int run(List<String> command, Map<String, String> env, Path workDir, Path log, long timeoutSeconds)
            throws IOException, InterruptedException {
        Process p = start(command, env, workDir, log);
        if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            kill(p);
            throw new AssertionError(String.join(" ", command.subList(0, Math.min(4, command.size())))
                    + " ... did not finish in " + timeoutSeconds + " s; its log: " + log);
        }
        return p.exitValue();
    }

    static void kill(Process p) {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
        try {
            p.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private synchronized void killAll() {
        for (Process p : started) {
            if (p.isAlive()) {
                kill(p);
            }
        }
        started.clear();
    }

    @Override
    public void close() {
        killAll();
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException ignored) {
            // already shutting down: the hook runs anyway
        }
    }

    /** A free TCP port on the loopback interface (a small race with other processes is accepted). */
    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}
