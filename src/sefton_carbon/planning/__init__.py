"""Planning on top of inventories: trajectory, scenarios, the borough's emissions, half-hourly meters."""
