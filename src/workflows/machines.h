// The built-in state machines (internal to workflows/; others use find_machine).
#pragma once
#include "workflows/state_machine.h"

namespace comms::workflows {

const StateMachine& notification_workflow();
const StateMachine& escalation_workflow();

}  // namespace comms::workflows
