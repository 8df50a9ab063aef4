package ai.chunkwise.faults;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The quick subset of the fault suite in the default tests: one kill -9 trial of train (killed in the middle of
 * writing a checkpoint) and 28 hostile inputs (4 of each kind). The full suite (docs/reliability.md) adds
 * tokenize-job kills, --overwrite publishes, disk full and more of everything.
 */
class FaultSuiteQuickTest {

    @Test
    void killsRecoverBitExactlyAndHostileInputsNeverCrash(@TempDir Path work) throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        FaultSuite.Result r = FaultSuite.run(new FaultSuite.Options(work, 1, 4, 1, false, true, false, false, 0),
                new PrintStream(bytes, true));
        String report = bytes.toString();
        assertEquals(1, r.trials(), report);
        assertEquals(1, r.bitExact(), report);
        assertEquals(0, r.bytesLost(), report);
        assertEquals(28, r.inputCount(), report);
        assertEquals(0, r.crashed(), report);
        assertEquals(0, r.rejectedUnclearly(), report);
        assertTrue(r.rejectedClearly() >= 20, report);
    }
}
