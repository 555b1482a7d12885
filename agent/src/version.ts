/** The agent's version: major 5 tells the control plane it speaks the push socket and the new command types. */
export const AGENT_VERSION = '5.0.0'
