package ai.chunkwise.train.bench;

import ai.chunkwise.childjvm.ChildJvm;
import ai.chunkwise.train.backend.CpuBuild;
import ai.chunkwise.train.memory.PeakMemory;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs a {@link StepProbe} in a child JVM (same class path, same JVM options, one OpenMP thread) and watches its
 * resident memory: a child that grows past the cap is killed and reported as such instead of taking the machine
 * down. The cap is on RSS, i.e. everything the process holds, native buffers included.
 */
final class ProbeRunner {
    static final String RESULT_PREFIX = "PROBE_RESULT ";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final long capBytes;
    private final long timeoutSeconds;

    ProbeRunner(long capBytes, long timeoutSeconds) {
        this.capBytes = capBytes;
        this.timeoutSeconds = timeoutSeconds;
    }

    ObjectNode run(ProbeSpec spec) throws IOException, InterruptedException {
        return run(spec, List.of());
    }

    /** @param jvmOptions extra options for the child JVM, e.g. which ND4J native build it loads */
    ObjectNode run(ProbeSpec spec, List<String> jvmOptions) throws IOException, InterruptedException {
        // the parent's own -X/-D options (heap size, JavaCPP limits) apply to the child too
        Process child = ChildJvm.of(StepProbe.class, spec.toArgs()).inheritingJvmOptions(CpuBuild.PROPERTY)
                .withJvmOptions(javaCppLimitsAboveCap()).withJvmOptions(jvmOptions).processBuilder()
                .redirectErrorStream(true).start();
        ChildOutput output = new ChildOutput(child);
        output.start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutSeconds);
        long peakSeen = 0;
        while (!child.waitFor(20, TimeUnit.MILLISECONDS)) {
            long rss = PeakMemory.residentSetBytes(child.pid());
            peakSeen = Math.max(peakSeen, rss);
            if (rss > capBytes || System.nanoTime() > deadline) {
                child.destroyForcibly().waitFor();
                output.join(1000);
                ObjectNode r = JSON.createObjectNode();
                r.put("status", rss > capBytes ? "exceeded_memory_cap" : "timed_out");
                r.put("cap_bytes", capBytes);
                r.put("peak_rss_bytes", peakSeen);
                r.put("timeout_s", timeoutSeconds);
                return r;
            }
        }
        output.join(5000);
        if (output.result == null) {
            ObjectNode r = JSON.createObjectNode();
            r.put("status", "failed");
            r.put("exit_code", child.exitValue());
            r.put("output_tail", output.tail());
            return r;
        }
        return (ObjectNode) JSON.readTree(output.result);
    }

    /**
     * JavaCPP refuses allocations past its own limits (by default 4x -Xmx physical), which would stop a probe below
     * the cap it was given (full back-propagation at 8K tokens needs ~13 GiB): the cap is meant to be the one limit,
     * so the child's JavaCPP limits sit above it, unless the parent was started with its own.
     */
    private List<String> javaCppLimitsAboveCap() {
        List<String> options = new ArrayList<>();
        String given = String.join(" ", ManagementFactory.getRuntimeMXBean().getInputArguments());
        long above = capBytes + (1L << 30);
        if (!given.contains("-Dorg.bytedeco.javacpp.maxBytes=")) {
            options.add("-Dorg.bytedeco.javacpp.maxBytes=" + above);
        }
        if (!given.contains("-Dorg.bytedeco.javacpp.maxPhysicalBytes=")) {
            options.add("-Dorg.bytedeco.javacpp.maxPhysicalBytes=" + above);
        }
        return options;
    }

    /** Drains the child's output; keeps the result line and the last lines for error reports. */
    private static final class ChildOutput extends Thread {
        private final Process child;
        private final List<String> last = new ArrayList<>();
        private volatile String result;

        ChildOutput(Process child) {
            this.child = child;
            setDaemon(true);
        }

        @Override
        public void run() {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    if (line.startsWith(RESULT_PREFIX)) {
                        result = line.substring(RESULT_PREFIX.length());
                    } else {
                        synchronized (last) {
                            last.add(line);
                            if (last.size() > 15) {
                                last.remove(0);
                            }
                        }
                    }
                }
            } catch (IOException ignored) {
                // the child was killed; what was read is what there is
            }
        }

        String tail() {
            synchronized (last) {
                return String.join("\n", last);
            }
        }
    }
}
