export { blockProofWorkflow } from './block';
export { chainSequencerWorkflow } from './sequencer';
