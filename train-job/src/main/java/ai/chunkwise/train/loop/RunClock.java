package ai.chunkwise.train.loop;

import org.bytedeco.javacpp.Pointer;

/** Wall-clock time since the loop started and the peak of JavaCPP's physical bytes seen. */
final class RunClock {
    private final long started = System.nanoTime();
    private long peakPhysical = Pointer.physicalBytes();

    long samplePhysicalBytes() {
        long physical = Pointer.physicalBytes();
        peakPhysical = Math.max(peakPhysical, physical);
        return physical;
    }

    long peakPhysicalBytes() {
        return peakPhysical;
    }

    double seconds() {
        return (System.nanoTime() - started) / 1e9;
    }

    /** Time to the step this run stops at, at the mean pace of the steps done so far. */
    double secondsLeft(long stepsDone, long stepsLeft) {
        return seconds() / stepsDone * stepsLeft;
    }
}
