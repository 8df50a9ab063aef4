package ai.chunkwise.tokenize;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The embedded session binds to loopback on purpose: Spark's "hostname resolves to a loopback address" is noise. */
class EmbeddedSessionQuietTest {

    @Test
    void theJobAloneDoesNotWarnAboutALoopbackHostname(@TempDir Path tmp) throws Exception {
        // Spark warns only where the host name resolves to a loopback address; elsewhere there is nothing to hide
        assumeTrue(InetAddress.getLocalHost().isLoopbackAddress(), "this host's name does not resolve to loopback");
        Path in = Files.writeString(tmp.resolve("doc.txt"), "one short document");
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx512m"));
        ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
                .filter(a -> a.startsWith("--add-opens")).forEach(cmd::add);
        // in a reactor build the class path holds pipeline.jar, whose manifest Class-Path adds pipeline's own CLI
        // logging binding (slf4j-simple); tokenize-job.jar runs with Spark's (log4j), so choose that one explicitly
        cmd.add("-Dslf4j.provider=org.apache.logging.slf4j.SLF4JServiceProvider");
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), TokenizeJob.class.getName(),
                "--input", in.toString(), "--format", "text", "--tokenizer", "bytes", "--chunk-size", "8",
                "--chunks-per-seq", "2", "--partitions", "1", "--output", tmp.resolve("out").toString()));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(180, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), output);
        assertTrue(output.contains("tokenize-job done"), output);
        assertFalse(output.contains("resolves to a loopback address"), output);
        assertFalse(output.contains("SPARK_LOCAL_IP"), output);
    }
}
