package ai.chunkwise.tokenize;

import ai.chunkwise.pipeline.format.Manifest;
import ai.chunkwise.pipeline.lock.HadoopOutputLock;
import ai.chunkwise.pipeline.lock.OutputLockedException;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 20's reliability leftovers on tokenize-job's side: outputs on a non-local Hadoop file system, the held-out one
 * included, are locked ({@link HadoopOutputLock}) and a killed run's leftovers there are removed once the lock is held.
 */
class RemoteOutputLockJobTest {

    @BeforeAll
    static void register() {
        Configuration.addDefaultResource("remotefs-site.xml");
    }

    private static String remote(Path p) {
        return RemoteLikeFileSystem.SCHEME + "://" + p.toAbsolutePath();
    }

    @Test
    void aLockedRemoteHeldOutOutputStopsTheJobAndItsLeftoversAreRemovedUnderTheLock(@TempDir Path tmp) throws Exception {
        Path in = tmp.resolve("in.txt");
        Files.write(in, List.of("one document", "another document", "a third document", "a fourth document"));
        Path out = tmp.resolve("out");
        Path heldOut = tmp.resolve("out-eval");
        Map<String, Object> job = TestJobs.bytesJob(in, "lines", out);
        job.put("output", remote(out));
        job.put("eval-fraction", 0.5);
        job.put("eval-output", remote(heldOut));

        // what a killed run left in the held-out output: attempt files, a half manifest, a half marker, a version
        // directory that no manifest lists
        Files.createDirectories(heldOut.resolve("_chunkwise_tmp"));
        Files.writeString(heldOut.resolve("_chunkwise_tmp/shard-00000.arrow.attempt-3"), "half");
        Files.writeString(heldOut.resolve("manifest.json.tmp"), "{\"half\":");
        Files.writeString(heldOut.resolve("_SUCCESS.tmp"), "");
        Files.createDirectories(heldOut.resolve("v0007"));
        Files.writeString(heldOut.resolve("v0007/shard-00000.arrow"), "orphan");

        FileSystem fs = new org.apache.hadoop.fs.Path(remote(heldOut)).getFileSystem(new Configuration());
        try (HadoopOutputLock other = HadoopOutputLock.acquire(fs, fs.makeQualified(
                new org.apache.hadoop.fs.Path(remote(heldOut))), "tokenize-job", n -> { })) {
            OutputLockedException e = assertThrows(OutputLockedException.class, () -> TestJobs.run(job));
            assertTrue(e.getMessage().contains("remotefs:" + heldOut + " is in use by tokenize-job (pid "
                    + ProcessHandle.current().pid()), e.getMessage());
            assertFalse(Files.exists(out.resolve(Manifest.FILE_NAME)));
            assertFalse(Files.exists(heldOut.resolve(Manifest.FILE_NAME)));
            assertTrue(Files.exists(heldOut.resolve("v0007")), "nothing is touched while another job holds it");
            assertTrue(Files.exists(tmp.resolve(".out-eval.lock")), "the lock sits next to the held-out output");
        }

        TestJobs.run(job);   // released: the job runs, cleans up and publishes both
        assertTrue(Files.exists(out.resolve(Manifest.FILE_NAME)));
        assertTrue(Files.exists(heldOut.resolve(Manifest.FILE_NAME)));
        for (String leftover : List.of("_chunkwise_tmp", "manifest.json.tmp", "_SUCCESS.tmp", "v0007")) {
            assertFalse(Files.exists(heldOut.resolve(leftover)), leftover + " removed");
        }
        assertFalse(Files.exists(tmp.resolve(".out.lock")), "both remote locks are released (deleted) at the end");
        assertFalse(Files.exists(tmp.resolve(".out-eval.lock")));
    }
}
