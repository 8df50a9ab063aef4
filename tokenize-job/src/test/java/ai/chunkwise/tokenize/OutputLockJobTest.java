package ai.chunkwise.tokenize;

import ai.chunkwise.pipeline.format.Manifest;
import ai.chunkwise.pipeline.lock.OutputLock;
import ai.chunkwise.pipeline.lock.OutputLockedException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Issue 9: nothing stops two jobs writing into one output directory, unless it is locked. */
class OutputLockJobTest {

    @Test
    void aSecondJobOnALockedOutputStopsNamingTheHolderAndTouchesNothing(@TempDir Path tmp) throws Exception {
        Path in = tmp.resolve("in.txt");
        Files.write(in, List.of("one document", "another document"));
        Path out = tmp.resolve("out");
        try (OutputLock held = OutputLock.acquire(out, "tokenize-job", n -> { })) {
            OutputLockedException e = assertThrows(OutputLockedException.class,
                    () -> TestJobs.run(TestJobs.bytesJob(in, "lines", out)));
            assertTrue(e.getMessage().contains("in use by tokenize-job (pid " + ProcessHandle.current().pid()),
                    e.getMessage());
            assertFalse(Files.exists(out.resolve(Manifest.FILE_NAME)));
        }
        TestJobs.run(TestJobs.bytesJob(in, "lines", out));   // released: the job runs
        assertTrue(Files.exists(out.resolve(Manifest.FILE_NAME)));
    }

    @Test
    void theHeldOutOutputIsLockedTooAndALockedOneStopsTheJobBeforeEitherOutputIsWritten(@TempDir Path tmp)
            throws Exception {
        Path in = tmp.resolve("in.txt");
        Files.write(in, List.of("one document", "another document", "a third document", "a fourth document"));
        Path out = tmp.resolve("out");
        Path held = tmp.resolve("out-eval");   // the documented default place of the held-out dataset
        java.util.Map<String, Object> job = TestJobs.bytesJob(in, "lines", out);
        job.put("eval-fraction", 0.5);
        try (OutputLock other = OutputLock.acquire(held, "tokenize-job", n -> { })) {
            OutputLockedException e = assertThrows(OutputLockedException.class, () -> TestJobs.run(job));
            assertTrue(e.getMessage().contains("in use by tokenize-job (pid " + ProcessHandle.current().pid()),
                    e.getMessage());
            assertFalse(Files.exists(out.resolve(Manifest.FILE_NAME)));
            assertFalse(Files.exists(held.resolve(Manifest.FILE_NAME)));
        }
        TestJobs.run(job);   // released: the job runs and publishes both
        assertTrue(Files.exists(out.resolve(Manifest.FILE_NAME)));
        assertTrue(Files.exists(held.resolve(Manifest.FILE_NAME)));
    }
}
