export { simulatePolicy, profileSampler, SimulationStalledError } from './simulate-policy.js';
export type { AttemptDraw } from './simulated-provider.js';
export type { SimulatePolicyOptions } from './simulate-policy.js';
export { formatSimulationReport, percentile } from './report.js';
export type { SimulationReport, CapabilityReport, LatencySummary, BreakerChange } from './report.js';
export type { ProviderProfile, ProviderProfiles, LatencyProfile, FaultProfile } from './profile.js';
export type { Workload } from './workload.js';
export { parseExpectation, checkExpectations } from './expectations.js';
export type { Expectation, ExpectationResult } from './expectations.js';
