package ai.chunkwise.train.bench;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The benchmark's command line (benchmarks themselves are not tests: nothing here measures anything). */
class BenchCommandTest {

    @Test
    void withoutASuiteOrSubcommandItSaysWhatToGive() {
        StringWriter err = new StringWriter();
        CommandLine cli = new CommandLine(new BenchCommand()).setErr(new PrintWriter(err));
        assertEquals(2, cli.execute());
        assertTrue(err.toString().contains("give --suite"), err.toString());
    }

    @Test
    void probeSpecsTravelToTheChildJvmUnchanged() {
        ProbeSpec spec = ProbeSpec.spaco(4096, 256, 2.5, "bernoulli", 1, 3);
        assertEquals(spec, ProbeSpec.fromArgs(spec.toArgs().toArray(String[]::new)));
        assertEquals("spaco(t=2.5,bernoulli)", spec.label());
    }
}
