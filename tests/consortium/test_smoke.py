def test_world_builds(world):
    assert world.ca.memberships.count() == 3
